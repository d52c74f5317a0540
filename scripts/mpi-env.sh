# Source this before calling "$mpirun": picks OpenMPI's mpirun (calcine is built against
# OpenMPI; a binary started by another MPI's launcher runs N copies of rank 0) and sets
# what OpenMPI needs here: running as root, more ranks than cores, no high-speed network.
mpirun=$(command -v mpirun.openmpi || command -v mpirun)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl="self,vader,tcp" OMPI_MCA_btl_base_warn_component_unused=0
