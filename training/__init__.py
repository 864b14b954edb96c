"""Offline work: the synthetic district, feature building, training and evaluation."""
