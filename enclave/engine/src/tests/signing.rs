//! EIP-712 hashing and signatures.
