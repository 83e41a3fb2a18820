"""Scheduling's pages, one module per area; ``scheduling/urls.py`` routes them."""
