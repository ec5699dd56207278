"""Fidelity, utility and privacy evaluation."""
