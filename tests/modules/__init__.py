"""Tests of the module library, one file per family where a family has tests beyond the registry."""
