// The cdylib is libmpi.so; give it the MPICH soname so binaries linked against it (or
// against MPICH) find it as libmpi.so.12.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmpi.so.12");
    println!("cargo:rerun-if-changed=build.rs");
}
