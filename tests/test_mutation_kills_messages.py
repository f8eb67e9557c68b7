"""Tests that kill mutants of autograd/engine.py (see tests/mutation/REPORT.md)."""
