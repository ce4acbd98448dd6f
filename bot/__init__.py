"""The mentorship companion bot: wiring, settings, translations and the rules of a mentorship."""

__version__ = "0.1.0"
