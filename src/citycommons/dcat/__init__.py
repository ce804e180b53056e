"""DCAT-AP 3 export of the catalog and its datasets (Turtle, JSON-LD, RDF/XML) built with rdflib."""
