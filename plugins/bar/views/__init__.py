"""The bar's HTTP API, one module per area; ``config.scan`` finds every view."""
