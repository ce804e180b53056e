"""Web front door: request wiring shared by the APIs and the pages, templates, static assets."""
