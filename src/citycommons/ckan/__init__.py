"""The CKAN Action API adapter: translates CKAN's wire format to and from the catalog services."""
