"""Runtime glue of PCN desk and the pure helpers shared by actions, channel and dashboard."""
