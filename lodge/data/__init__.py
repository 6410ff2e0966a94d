"""Training data: BVH reading, CMU retargeting, music pairing, corpus building and loading, dataset readers."""
