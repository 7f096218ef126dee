"""Represent: encoders and the features of an article that the clusterer compares."""
