"""Fidelity and utility: how far the synthetic cohort is from the real one, measure by measure.

Every measure is scored twice: synthetic against train, and holdout against train. The second
is what a perfect synthetic cohort of this size would score (the ceiling), and is reported as
each figure's baseline.
"""
