"""Cluster: the online event clusterer, the pair scorer it asks, and its candidate index."""
