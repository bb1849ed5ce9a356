//! liblxc.so.1 C ABI. Not implemented yet: placeholder so the workspace layout matches DESIGN.md;
//! nothing here is presented as working.
