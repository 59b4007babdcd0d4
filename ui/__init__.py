"""Streamlit-side helpers for the dashboard: engine loading, charts, widgets, the simulation runner.

Only this package and pages/ import streamlit; ltrr_core never does.
"""
