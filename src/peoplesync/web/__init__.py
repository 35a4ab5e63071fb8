"""The web app and REST API: ``create_app(store)`` serves pages, /api/v1 and assets."""
