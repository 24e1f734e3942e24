"""Insights: structured records, topics, trends and emerging issues, search and reports for the business."""
