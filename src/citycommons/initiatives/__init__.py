"""The digital-rights initiatives map: anyone submits, moderators decide, approved initiatives are public."""
