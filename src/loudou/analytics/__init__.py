"""Funnel analytics: pure functions over columnar (Polars) frames.

Nothing here imports Django models or runs SQL. ``loudou.reports`` loads the frames from
the database and calls these functions; tests build frames by hand.
"""
