"""Demo data: packages, synthetic customers and the ready-to-click demo operators."""
