"""PCN desk: Streamlit agent console and management bilan."""
