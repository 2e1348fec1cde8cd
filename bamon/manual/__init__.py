"""bamon's manual pages, generated from the sources so they cannot drift from the program.

bamon(1) comes from the argument parser, bamon.yaml(5) from schema.yaml; the pages about units
(bamon-generator(8), bamon.notify@.service(8)) are written by hand in man/. Packages build the
generated pages at build time: `python3 -m bamon.manual DIR`.
"""
