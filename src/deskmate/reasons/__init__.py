"""Reasons for contact: the workspace's catalogue, given by the source or found by topics, curated by supervisors."""
