//! Policy files of okaz: types, loading and validation
