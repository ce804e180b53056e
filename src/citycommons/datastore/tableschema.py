"""The Frictionless Table Schema of a version, from its settled columns and the editors' override."""

from __future__ import annotations

from citycommons.datastore.overrides import annotate
from citycommons.datastore.readers.common import Staged
from citycommons.datastore.schemas import FieldSchema, SchemaOverride, TableSchema

GEO_DESCRIPTIONS = {
    "geometry": "Feature geometry (GeoJSON, WGS84 lon/lat unless the source said otherwise)",
    "bbox_minx": "Bounding box: minimum x (longitude) of the geometry, computed",
    "bbox_miny": "Bounding box: minimum y (latitude) of the geometry, computed",
    "bbox_maxx": "Bounding box: maximum x (longitude) of the geometry, computed",
    "bbox_maxy": "Bounding box: maximum y (latitude) of the geometry, computed",
    "centroid_lon": "Centroid longitude of the geometry, computed",
    "centroid_lat": "Centroid latitude of the geometry, computed",
}


def build_schema(*, staged: Staged, override: SchemaOverride | None) -> TableSchema:
    fields = []
    for col in staged.columns:
        tt = col.text
        field = FieldSchema(
            name=col.name,
            type=col.field_type,
            format=tt.format if tt else "default",
            kind="code" if col.kind == "code" and col.field_type == "string" else None,
            description=GEO_DESCRIPTIONS.get(col.name, "") if staged.format == "geojson" else "",
        )
        if tt is not None and tt.decimal_char != ".":
            field.decimal_char = tt.decimal_char
        if tt is not None and tt.group_char:
            field.group_char = tt.group_char
        if tt is not None and col.missing_seen:
            field.missing_values = ["", *col.missing_seen]
        fields.append(field)
    return annotate(schema=TableSchema(fields=fields), override=override)
