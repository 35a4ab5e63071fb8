"""The web app and REST API: ``create_app(services)`` serves pages, /api/v1 and assets."""
