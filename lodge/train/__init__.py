"""Training of Lodge's two stages: `python -m lodge train global|local|finetune --data DIR --out DIR`."""
