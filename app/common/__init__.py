"""The leaf package: code vocabularies with their labels, money, region, identifier codes, errors,
checksums. It imports nothing else of the app, so that every layer may import it."""
