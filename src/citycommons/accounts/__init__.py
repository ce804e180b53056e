"""Accounts: users, passwords, API tokens, organisation memberships."""
