-- Copy the whole database into a fresh file (the path is filled in by the caller from the
-- warehouse path: a literal, as ATTACH takes no parameter); freed blocks are not copied.
ATTACH '{path}' AS takedown_fresh;
COPY FROM DATABASE {source} TO takedown_fresh;
DETACH takedown_fresh;
