"""A tiny Whisper-style audio encoder, small enough to ship as the Hailo Workbench example."""
