-- Template: fill a staged table row by row through COPY.
COPY {name} ({columns}) FROM STDIN
