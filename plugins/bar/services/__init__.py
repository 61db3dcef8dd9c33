"""The bar's business rules: one function per use case, taking the session and the caller.

The caller is ``request.identity`` (a :class:`pyramidion.auth.Identity`: the
user and their permissions), as in every plugin.

API views, console pages and background tasks all call these, so a rule or
a permission check is written once:

* :mod:`.access`: permission checks, wallets they may see, acting personnel;
* :mod:`.wallet`: moving a wallet's money (one conditional UPDATE plus one ledger row);
* :mod:`.holders`: wallets, top-ups and refunds at the bar, personnel, NFC cards;
* :mod:`.catalogue`: stock, products, categories;
* :mod:`.sales`: selling (:func:`.sales.sell`) and purchases;
* :mod:`.cycles`: opening, middle and closing counts of the till and a cycle's report;
* :mod:`.overview`: revenue by category and payment method, and its .xlsx;
* :mod:`.events`: events, registrations, the charge run;
* :mod:`.online`: online top-ups through Mollie;
* :mod:`.members`: members of the external member database as local users.

A service that returns a statement (``purchases(db, caller)``) gives what the
caller may see; the view pages it with its :class:`~pyramidion.api.Listing`.
"""
