DETACH compact_src;
