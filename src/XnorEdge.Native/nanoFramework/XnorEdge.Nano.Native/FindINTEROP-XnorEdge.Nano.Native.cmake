#
# XnorEdge native kernels as a nanoFramework interop assembly.
# nf-interpreter's FindNF_NativeAssemblies.cmake runs find_package(INTEROP-XnorEdge.Nano.Native) for every name in
# NF_INTEROP_ASSEMBLIES; this module (copied to <nf-interpreter>/CMake/Modules by add-to-nf-interpreter.sh) lists
# the sources under <nf-interpreter>/InteropAssemblies/XnorEdge.Nano.Native: the nanoCLR glue and the C kernels.
#

set(BASE_PATH_FOR_THIS_MODULE "${CMAKE_SOURCE_DIR}/InteropAssemblies/XnorEdge.Nano.Native")

list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${CMAKE_SOURCE_DIR}/src/CLR/Core)
list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${CMAKE_SOURCE_DIR}/src/CLR/Include)
list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${CMAKE_SOURCE_DIR}/src/HAL/Include)
list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${CMAKE_SOURCE_DIR}/src/PAL/Include)
list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${BASE_PATH_FOR_THIS_MODULE})
list(APPEND XnorEdge.Nano.Native_INCLUDE_DIRS ${BASE_PATH_FOR_THIS_MODULE}/kernels)

set(XnorEdge.Nano.Native_SRCS
    # the nanoCLR glue
    XnorEdge_Nano_Native.cpp
    XnorEdge_Nano_Native_XnorEdge_Native_NativeKernels.cpp
    # the kernels (src/XnorEdge.Native), one operator per file
    kernels/xe_dispatch.c
    kernels/xe_layer.c
    kernels/xe_output_stage.c
    kernels/xe_xnor_conv2d.c
    kernels/xe_bwn_conv2d.c
    kernels/xe_conv2d.c
    kernels/xe_xnor_dense.c
    kernels/xe_bwn_dense.c
    kernels/xe_dense.c
    kernels/xe_maxpool2d.c
    kernels/xe_per_channel.c
)

foreach(SRC_FILE ${XnorEdge.Nano.Native_SRCS})
    set(XnorEdge.Nano.Native_SRC_FILE SRC_FILE-NOTFOUND)
    find_file(XnorEdge.Nano.Native_SRC_FILE ${SRC_FILE}
        PATHS ${BASE_PATH_FOR_THIS_MODULE}
        CMAKE_FIND_ROOT_PATH_BOTH
    )
    if(BUILD_VERBOSE)
        message("${SRC_FILE} >> ${XnorEdge.Nano.Native_SRC_FILE}")
    endif()
    list(APPEND XnorEdge.Nano.Native_SOURCES ${XnorEdge.Nano.Native_SRC_FILE})
endforeach()

# The kernels must round like the C# reference: no fused multiply-add, no fast-math (the sources also say so
# with a pragma; this covers compilers that ignore it). Source properties only reach targets of this
# directory scope, hence the DIRECTORY list (CMake >= 3.18).
set_source_files_properties(${XnorEdge.Nano.Native_SOURCES}
    DIRECTORY ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
    PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;-fno-fast-math")

include(FindPackageHandleStandardArgs)

FIND_PACKAGE_HANDLE_STANDARD_ARGS(INTEROP-XnorEdge.Nano.Native DEFAULT_MSG XnorEdge.Nano.Native_INCLUDE_DIRS XnorEdge.Nano.Native_SOURCES)
