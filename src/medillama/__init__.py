"""MediLlama: synthetic Indian-healthcare consultations, LoRA fine-tuning, honest evaluation."""
__version__ = "0.1.0"

DISCLAIMER = ("This is general health information, not a medical diagnosis. "
              "Please consult a qualified doctor; in an emergency call 108.")
