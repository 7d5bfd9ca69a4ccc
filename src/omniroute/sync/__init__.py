"""The sync sidecar: ingests inventory deltas from feeds; sole writer of on-hand and supply."""
