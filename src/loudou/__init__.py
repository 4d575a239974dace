"""Loudou (漏斗): sales-funnel management for B2B sales teams."""

__version__ = "0.1.0"
