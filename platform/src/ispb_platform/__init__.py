"""The ISPB platform."""
