"""Reads for pages, one module per page area (named like ``views/``): each function returns
what one screen needs in a fixed number of queries. Selectors never import services."""
