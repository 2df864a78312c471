//! Sealed-bid auctions and the bid encryption.
