"""Dataset builders' organisations and the API keys that authenticate every /api/v1/ call."""
