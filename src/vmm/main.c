/* vmm: stub until the KVM core lands. */
int main(void)
{
	return 0;
}
