"""MediLlama: synthetic Indian-healthcare consultations, LoRA fine-tuning, honest evaluation."""
__version__ = "0.1.0"

DISCLAIMER = ("This is general health information, not a medical diagnosis. "
              "Please consult a qualified doctor; in an emergency call 108.")

import warnings as _warnings

# tqdm.auto warns at import in a kernel without ipywidgets (transformers imports it); the runner disables bars
_warnings.filterwarnings("ignore", message="IProgress not found")
_warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*is deprecated")
