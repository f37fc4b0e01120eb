/* (being written) */
typedef int hh_placeholder_slice;
