"""Web views, one module per surface: public pages, the staff triage queue, the vendor portal, accounts."""
