//! Adapters to the state registers, the document model mapping, and the okaz-sandbox
