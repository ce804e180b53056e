"""ORM rows -> Read schemas (ORM objects never leave the services)."""

from __future__ import annotations

from citycommons.catalog.models import Dataset, Distribution, Organization
from citycommons.catalog.schemas import DatasetRead, DistributionRead, OrganizationSummary


def organization_summary(org: Organization) -> OrganizationSummary:
    return OrganizationSummary(id=org.id, name=org.name, title=org.title, image_url=org.image_url)


def distribution_read(dist: Distribution) -> DistributionRead:
    return DistributionRead(
        id=dist.id,
        dataset_id=dist.dataset_id,
        position=dist.position,
        title=dist.title,
        description=dist.description,
        url=dist.url,
        url_type=dist.url_type,
        access_url=dist.access_url or dist.url,
        download_url=dist.url,
        format=dist.format,
        media_type=dist.media_type,
        byte_size=dist.byte_size,
        checksum=dist.checksum,
        license_id=dist.license_id,
        extras=dist.extras,
        state=dist.state,
        created=dist.created,
        last_modified=dist.last_modified,
        datastore_active=bool(dist.datastore_active),
    )


def dataset_read(ds: Dataset) -> DatasetRead:
    return DatasetRead(
        id=ds.id,
        name=ds.name,
        title=ds.title,
        description=ds.description,
        identifier=ds.identifier,
        organization=organization_summary(ds.organization),
        private=ds.private,
        access_rights=ds.access_rights,
        license_id=ds.license_id,
        themes=ds.themes,
        tags=[t.name for t in ds.tags],
        groups=[g.name for g in ds.groups],
        contact_name=ds.contact_name,
        contact_email=ds.contact_email,
        spatial_uri=ds.spatial_uri,
        spatial_wkt=ds.spatial_wkt,
        temporal_start=ds.temporal_start,
        temporal_end=ds.temporal_end,
        frequency=ds.frequency,
        issued=ds.issued,
        modified=ds.modified,
        version=ds.version,
        conforms_to=list(ds.conforms_to),
        languages=list(ds.languages),
        landing_page=ds.landing_page,
        extras=dict(ds.extras),
        state=ds.state,
        creator_user_id=ds.creator_user_id,
        metadata_created=ds.metadata_created,
        metadata_modified=ds.metadata_modified,
        distributions=[distribution_read(d) for d in ds.distributions],
    )
