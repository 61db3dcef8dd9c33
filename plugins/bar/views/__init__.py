"""The bar's JSON API under ``/api/bar``: validate, call a service, answer.

Each view declares the permission its service requires, so the OpenAPI
document and the 401/403 answers say it; the service checks it again for
callers that are not views (console pages, tasks). The caller is
``request.identity``.
"""
