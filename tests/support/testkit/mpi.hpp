// What an MPI kata's test needs around MPI (lesson 11): the rank, the number of ranks, and a
// communicator of the test's own.
//
// Why a communicator per test: a test that fails on one rank may leave a message unreceived or a
// collective half-done. On a duplicate of MPI_COMM_WORLD, made for the test and freed after it,
// nothing of it can be matched by the next test's calls: MPI matches messages per communicator.
// Every rank runs every test (testkit/mpi_main.cpp), so SetUp's MPI_Comm_dup, a collective, is
// called by all ranks in the same order.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

namespace testkit {

class MpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
  }
  void TearDown() override { MPI_Comm_free(&comm); }

  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
};

}  // namespace testkit
