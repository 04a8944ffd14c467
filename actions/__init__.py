"""Rasa SDK actions of PCN desk, one module per concern (rasa-sdk imports every submodule)."""
